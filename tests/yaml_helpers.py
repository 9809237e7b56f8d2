"""Small classes that the YAML tests build with ``!obj:yaml_helpers.X``."""


class Point:
    """A point; `x` required, `y` optional."""

    def __init__(self, x, y=0):
        self.x = x
        self.y = y


class Holder:
    """Holds a child object and a list."""

    def __init__(self, child, items=None):
        self.child = child
        self.items = items


class Counted:
    """Counts its instances, to prove that an alias does not build a second one."""

    count = 0

    def __init__(self, tag=None):
        Counted.count += 1
        self.tag = tag


class Positive:
    """Rejects non-positive values with its own ValueError."""

    def __init__(self, value):
        if value <= 0:
            raise ValueError(f"value must be positive, got {value}")
        self.value = value


class BrokenInside:
    """Raises a TypeError from its body although its arguments fit."""

    def __init__(self, x):
        raise TypeError("broken inside the constructor")


class Frozen:
    """Refuses new attributes, so ``yaml_src`` cannot be set."""

    __slots__ = ("x",)

    def __init__(self, x):
        self.x = x


class Unpicklable:
    """Fails while being pickled, with the exception class it is given."""

    def __init__(self, error=RuntimeError):
        self.error = error

    def __reduce__(self):
        raise self.error("cannot pickle this")
