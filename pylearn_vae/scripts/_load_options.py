"""``--allow-module MODULE`` and ``--trust``: what the files a command names may build.

Every script's parser has them (:func:`add_load_options`; ``docs/security.md``): a model
pickle and a dataset YAML may only build this package's classes unless the user allows
more. :class:`~pylearn_vae.scripts._parsing.ArgumentParser` records the parsed values
here (:func:`remember`), :func:`~pylearn_vae.scripts._loading.load_model` and
:func:`~pylearn_vae.scripts._loading.load_dataset` read them (:func:`current`), and
:func:`~pylearn_vae.scripts._errors.clear_errors` forgets them when the script's body
ends (:func:`forget`).
"""

__all__ = ["add_load_options", "current", "forget", "remember"]

# What the last parsed command line allows; the keyword arguments of serial.load and
# yaml_parse.load.
_recorded = {"allow_modules": (), "trusted": False}


def add_load_options(parser):
    """Add ``--allow-module MODULE`` (repeatable) and ``--trust`` to ``parser``."""
    group = parser.add_argument_group("safety (see docs/security.md)")
    group.add_argument(
        "--allow-module",
        action="append",
        default=[],
        dest="allow_modules",
        metavar="MODULE",
        help="also let YAML and pickle files build the classes and functions of MODULE "
        "(e.g. the module of your own Prior); repeatable; adds to $PYLEARN_VAE_ALLOW_MODULES",
    )
    group.add_argument(
        "--trust",
        action="store_true",
        help="trust the files given: load them unrestricted, which runs any code they hold",
    )


def remember(namespace):
    """Record the ``allow_modules`` and ``trust`` of a parsed command line."""
    _recorded.update(allow_modules=tuple(namespace.allow_modules), trusted=namespace.trust)


def current():
    """``{'allow_modules': tuple, 'trusted': bool}`` of the last parsed command line."""
    return dict(_recorded)


def forget():
    """Back to the defaults: this package's classes only."""
    _recorded.update(allow_modules=(), trusted=False)
