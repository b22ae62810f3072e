# Runs under `setpriv --reuid U --regid G --groups ...` with no capabilities: opens every requested path
# the way QEMU opens a disk (O_RDONLY or O_RDWR, following symlinks) and reports the kernel's errno.
# O_NONBLOCK|O_NOCTTY so device nodes and FIFOs never block or become a terminal; the permission check
# happens before the driver's open, so ENXIO/ENODEV from made-up devices still mean "permission passed".
import errno, json, os, sys

request = json.load(sys.stdin)
results = []
for path, want in request:
    flags = (os.O_RDONLY if want == "read" else os.O_RDWR) | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
    try:
        os.close(os.open(path.encode("utf-8"), flags))
        results.append("OK")
    except OSError as e:
        results.append(errno.errorcode.get(e.errno, str(e.errno)))

status = open("/proc/self/status").read().splitlines()
cap_eff = next(line.split()[1] for line in status if line.startswith("CapEff:"))
json.dump(
    {"uid": os.getuid(), "gid": os.getgid(), "groups": sorted(os.getgroups()), "capEff": cap_eff, "results": results},
    sys.stdout,
)
