"""``defusion fuse`` (placeholder replaced below)."""
HELP = "fuse"
def add_arguments(p): pass
def run(args): return 0
