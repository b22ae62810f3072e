# Regenerates samples/invalid/*.xml and manifest.json (run: cd samples/invalid && python3 generate.py).
# The error spot is marked with @@ in each template (removed on write),
# so the expected line:col is stated by the author, not computed by the code under test.
import json, os
HEAD = """<domain type='kvm'>
  <name>broken</name>
  <memory unit='KiB'>1048576</memory>
  <os>
    <type arch='x86_64'>hvm</type>
  </os>
  <devices>
"""
TAIL = """  </devices>
</domain>
"""
DISK = """    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/var/lib/libvirt/images/broken.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
"""
def dom(devices=DISK, head=HEAD, tail=TAIL): return head + devices + tail
cases = {
 'unclosed-disk.xml': ("a <disk> whose </disk> was deleted: the parent's end tag does not match",
   dom(DISK.replace("    </disk>\n", "") + "").replace("  </devices>", "  @@</devices>"), 'does not match start tag <disk>', True),
 'mismatched-end-tag.xml': ("end tag typo", dom(DISK.replace("</disk>", "@@</disc>")), 'does not match', True),
 'truncated.xml': ("file cut off inside the devices", dom()[:dom().index("      <target")].replace("    <disk", "    @@<disk"), 'is not closed before the end of the input', True),
 'truncated-in-start-tag.xml': ("file cut off inside a start tag", dom()[:dom().index("      <target")] + "      @@<target dev='vda'", 'is not closed before the end', True),
 'duplicate-attribute.xml': ("two file= attributes", dom(DISK.replace("broken.qcow2'/>", "broken.qcow2' @@file='/tmp/x'/>")), "duplicate attribute 'file'", True),
 'two-roots.xml': ("two domains concatenated", dom() + "@@" + dom(), 'exactly one root element', True),
 'text-before-root.xml': ("virsh output pasted with its banner", "@@Domain broken XML configuration:\n" + dom(), 'text is not allowed before the root element', True),
 'text-after-root.xml': ("a shell prompt pasted after the XML", dom() + "@@[root@host ~]# \n", 'text is not allowed after the root element', True),
 'undefined-entity.xml': ("HTML entity in a title", dom(head=HEAD.replace("  <memory", "  <title>Caf&eacute;@@&nbsp;VM</title>\n  <memory").replace("Caf&eacute;@@", "Caf@@&eacute;")), 'undefined entity &eacute;', True),
 'char-ref-nul.xml': ("&#0; is not an XML character", dom(head=HEAD.replace("  <memory", "  <description>nul @@&#0; here</description>\n  <memory")), 'not a valid XML character', True),
 'char-ref-surrogate.xml': ("&#xD800; is a surrogate, not a character", dom(head=HEAD.replace("  <memory", "  <description>@@&#xD800;</description>\n  <memory")), 'not a valid XML character', True),
 'lt-in-attribute.xml': ("'<' inside an attribute value", dom(DISK.replace("images/broken", "images/@@<broken>")), "'<' is not allowed in an attribute value", True),
 'bare-ampersand.xml': ("unescaped & in a path", dom(DISK.replace("images/broken", "images/Smith @@& Sons/broken")), "'&' must start", True),
 'control-character.xml': ("an ESC pasted from a terminal", dom(DISK.replace("broken.qcow2", "@@\x1b[0mbroken.qcow2")), 'character U+001B is not allowed', True),
 'bad-element-name.xml': ("element name starting with a digit", dom(DISK.replace("<target", "<@@2target").replace("</disk>", "</disk>")), 'invalid element name', True),
 'bad-attribute-name.xml': ("attribute name starting with '-'", dom(DISK.replace("bus='virtio'", "@@-bus='virtio'")), 'invalid attribute name', True),
 'unquoted-attribute.xml': ("attribute value without quotes", dom(DISK.replace("type='qcow2'", "type=@@qcow2")), 'must be in quotes', True),
 'no-space-between-attributes.xml': ("attributes run together", dom(DISK.replace("name='qemu' type", "name='qemu'@@type")), 'whitespace is required before an attribute', True),
 'cdata-end-in-text.xml': ("']]>' in character data", dom(head=HEAD.replace("  <memory", "  <description>array[a[0]@@]]>1</description>\n  <memory")), "']]>' is not allowed in text", True),
 'double-dash-in-comment.xml': ("'--' inside a comment", dom(DISK.replace("    <disk", "    <!-- was: qemu-img create @@--force -->\n    <disk", 1)), "'--' is not allowed inside a comment", True),
 'unclosed-comment.xml': ("comment never closed", dom(DISK.replace("    <disk", "    @@<!-- old disk\n    <disk", 1)), 'comment is not closed', True),
 'declaration-not-first.xml': ("blank line before the XML declaration", "\n@@<?xml version='1.0'?>\n" + dom(), 'only allowed at the very start', True),
 'declaration-latin1.xml': ("declared encoding is not UTF-8", "<?xml version='1.0' encoding='@@ISO-8859-1'?>\n" + dom(), "encoding 'ISO-8859-1' is not supported", False),
 'declaration-no-version.xml': ("XML declaration without version", "<?xml @@encoding='UTF-8'?>\n" + dom(), "'version' must come first", True),
 'malformed-pi.xml': ("processing instruction never closed", "@@<?virt-manager keep\n" + dom(), 'processing instruction is not closed', True),
 'doctype-xxe.xml': ("external entity (XXE) attempt", "@@<!DOCTYPE domain [\n  <!ENTITY xxe SYSTEM 'file:///etc/shadow'>\n]>\n" + dom(head=HEAD.replace("<name>broken</name>", "<name>&xxe;</name>")), 'DOCTYPE is not allowed', False),
 'doctype-billion-laughs.xml': ("entity expansion bomb", "<?xml version='1.0'?>\n@@<!DOCTYPE lolz [\n" + "".join(f"  <!ENTITY lol{i} '{('&lol%d;' % (i-1)) * 10 if i else 'lol'}'>\n" for i in range(10)) + "]>\n" + dom(head=HEAD.replace("<name>broken</name>", "<name>&lol9;</name>")), 'DOCTYPE is not allowed', True),
}
manifest = {}
for name, (why, text, message, libxml2_rejects) in cases.items():
    assert text.count('@@') == 1, name
    i = text.index('@@')
    before = text[:i].replace('\r\n', '\n')
    line = before.count('\n') + 1
    col = len(before) - (before.rfind('\n') + 1) + 1
    with open(name, 'w', encoding='utf-8', newline='') as f:
        f.write(text.replace('@@', ''))
    manifest[name] = {'line': line, 'column': col, 'message': message, 'why': why, 'libxml2Rejects': libxml2_rejects}
# Byte-level cases.
raw = dom(DISK.replace("broken.qcow2", "M\u00fcller.qcow2")).encode('utf-8')
raw = raw.replace('ü'.encode(), b'\xfc')  # Latin-1 ü saved by an old editor
pre = raw[:raw.index(b'\xfc')].decode()
with open('invalid-utf8.xml', 'wb') as f: f.write(raw)
manifest['invalid-utf8.xml'] = {'line': pre.count('\n') + 1, 'column': len(pre) - pre.rfind('\n'), 'message': 'invalid UTF-8', 'why': 'Latin-1 byte in a path', 'libxml2Rejects': True}
with open('utf16le.xml', 'wb') as f: f.write(b'\xff\xfe' + dom().encode('utf-16-le'))
manifest['utf16le.xml'] = {'line': 1, 'column': 1, 'message': 'only UTF-8 is supported', 'why': 'saved as UTF-16 by an editor', 'libxml2Rejects': False}
deep = "<domain type='kvm'>\n  <name>deep</name>\n  <metadata>\n" + "<x>" * 254 + "@@<x>" + "</x>" * 255 + "\n  </metadata>\n</domain>\n"
i = deep.index('@@'); before = deep[:i]
with open('too-deep.xml', 'w') as f: f.write(deep.replace('@@', ''))
manifest['too-deep.xml'] = {'line': before.count('\n') + 1, 'column': len(before) - before.rfind('\n'), 'message': 'nested deeper than 256 levels', 'why': 'element 257 levels deep', 'libxml2Rejects': False}
with open('manifest.json', 'w') as f: json.dump(dict(sorted(manifest.items())), f, indent=2); f.write('\n')
