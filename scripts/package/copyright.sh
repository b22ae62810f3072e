#!/usr/bin/env bash
# The licence statement for the system packages: virt-seclabel's own MIT licence plus every npm package
# the bundle contains (dist/cli/bundled-packages.json, written by scripts/bundle.mjs) and the native
# @napi-rs/xattr addon. `copyright.sh deb` prints a machine-readable debian/copyright; `copyright.sh rpm`
# prints the SPDX expression for the RPM License: tag. `cockpit-deb` and `cockpit-rpm` do the same for the
# Cockpit page (cockpit/build.mjs writes dist/cockpit/bundled-packages.json: React, PatternFly, …).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
mode=${1:?usage: copyright.sh deb|rpm|cockpit-deb|cockpit-rpm}
list="$root/dist/cli/bundled-packages.json"
files='usr/lib/virt-seclabel/dist/cli/*'
addon=true
case $mode in
  cockpit-*) list="$root/dist/cockpit/bundled-packages.json"; files='usr/share/cockpit/virt-seclabel/*'; addon=false; mode=${mode#cockpit-} ;;
esac
case $mode in
  rpm)
    node -e "
      const b = require('$list');
      const ls = new Set(['MIT', ...b.map((p) => p.license)]);
      console.log([...ls].sort().join(' AND '));"
    ;;
  deb)
    year=$(date -u +%Y)
    cat <<HEAD
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: virt-seclabel
Source: https://github.com/virt-seclabel/virt-seclabel

Files: *
Copyright: $year virt-seclabel contributors
License: Expat

HEAD
    node -e "
      const b = require('$list');
      if ($addon) b.push({ name: '@napi-rs/xattr', license: 'MIT', where: 'usr/lib/virt-seclabel/node_modules/@napi-rs/*' });
      const spdx = { MIT: 'Expat', ISC: 'ISC', '0BSD': '0BSD' };
      for (const p of b) {
        if (!spdx[p.license]) { console.error('copyright.sh: no licence text for ' + p.name + ' (' + p.license + ')'); process.exit(2); }
        console.log('Files: ' + (p.where ?? '$files'));
        console.log('Comment: ' + (p.where ? 'native addon' : 'bundled into the program by esbuild') + ': npm package ' + p.name + (p.version ? ' ' + p.version : ''));
        console.log('Copyright: the ' + p.name + ' authors');
        console.log('License: ' + spdx[p.license]);
        console.log();
      }"
    cat <<'LICENSES'
License: Expat
 Permission is hereby granted, free of charge, to any person obtaining a copy
 of this software and associated documentation files (the "Software"), to deal
 in the Software without restriction, including without limitation the rights
 to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
 copies of the Software, and to permit persons to whom the Software is
 furnished to do so, subject to the following conditions:
 .
 The above copyright notice and this permission notice shall be included in
 all copies or substantial portions of the Software.
 .
 THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
 IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
 FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
 AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
 LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
 OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN
 THE SOFTWARE.

License: ISC
 Permission to use, copy, modify, and/or distribute this software for any
 purpose with or without fee is hereby granted, provided that the above
 copyright notice and this permission notice appear in all copies.
 .
 THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
 WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
 MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR ANY
 SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES WHATSOEVER
 RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN ACTION OF
 CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF OR IN
 CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.
LICENSES
    if [ "$addon" = false ]; then
      cat <<'LICENSES'

License: 0BSD
 Permission to use, copy, modify, and/or distribute this software for any
 purpose with or without fee is hereby granted.
 .
 THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
 WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
 MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR ANY
 SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES WHATSOEVER
 RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN ACTION OF
 CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF OR IN
 CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.
LICENSES
    fi
    ;;
  *) echo "copyright.sh: deb, rpm, cockpit-deb or cockpit-rpm" >&2; exit 2 ;;
esac
