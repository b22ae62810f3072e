# A read-only passthrough FUSE daemon (fusepy, Debian's python3-fusepy) that decides permissions itself,
# the way many FUSE daemons do, mounted WITHOUT default_permissions (the kernel checks no mode bits) and
# with allow_other. It only knows the caller's uid and gid (FUSE passes no supplementary groups), so it
# grants by the owner bits when the uid owns the file, the group bits when the caller's primary gid is
# the file's, and the other bits otherwise, ignoring ACLs and supplementary groups: a rule the local
# model does not implement, so only asking the kernel as QEMU gets it right. uid 0 gets in everywhere.
# Lookups in a directory the caller cannot search fail with EACCES; an open needs read (and write for
# O_WRONLY/O_RDWR). Timeouts are zero so every lookup reaches the daemon (no dentry cached by another
# user's walk decides for QEMU). With --squash-root, uid 0 is treated as nobody (65534:65534), as an NFS
# export with root_squash does. Usage: deciding-fuse.py [--squash-root] SOURCE MOUNTPOINT
import errno
import os
import stat
import sys

from fusepy import FUSE, FuseOSError, Operations, fuse_get_context


class Deciding(Operations):
    def __init__(self, root, squash):
        self.root = root
        self.squash = squash

    def _real(self, path):
        return self.root + path

    def _may(self, st, want):
        uid, gid, _ = fuse_get_context()
        if uid == 0 and self.squash:
            uid, gid = 65534, 65534
        elif uid == 0:
            return True
        if st.st_uid == uid:
            bits = (st.st_mode >> 6) & 7
        elif st.st_gid == gid:
            bits = (st.st_mode >> 3) & 7
        else:
            bits = st.st_mode & 7
        return bits & want == want

    def getattr(self, path, fh=None):
        if path != '/':
            parent = os.lstat(self._real(os.path.dirname(path)))
            if not self._may(parent, 1):
                raise FuseOSError(errno.EACCES)
        try:
            st = os.lstat(self._real(path))
        except OSError as e:
            raise FuseOSError(e.errno)
        return {k: getattr(st, k) for k in ('st_mode', 'st_uid', 'st_gid', 'st_size', 'st_nlink', 'st_atime', 'st_mtime', 'st_ctime', 'st_rdev')}

    def readlink(self, path):
        return os.readlink(self._real(path))

    def readdir(self, path, fh):
        return ['.', '..'] + os.listdir(self._real(path))

    def open(self, path, flags):
        st = os.lstat(self._real(path))
        acc = flags & os.O_ACCMODE
        want = 4 if acc == os.O_RDONLY else 2 if acc == os.O_WRONLY else 6
        if not self._may(st, want):
            raise FuseOSError(errno.EACCES)
        if not stat.S_ISREG(st.st_mode):
            raise FuseOSError(errno.EACCES)
        return os.open(self._real(path), os.O_RDONLY)

    def read(self, path, size, offset, fh):
        return os.pread(fh, size, offset)

    def release(self, path, fh):
        os.close(fh)


if __name__ == '__main__':
    args = [a for a in sys.argv[1:] if a != '--squash-root']
    FUSE(Deciding(args[0], '--squash-root' in sys.argv), args[1], foreground=True, nothreads=True, allow_other=True,
         entry_timeout=0, attr_timeout=0, negative_timeout=0, fsname='deciding')
