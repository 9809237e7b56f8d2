"""``--allow-module MODULE`` and ``--trust``: what the files a command names may build.

Every script's parser has them (:func:`add_load_options`; ``docs/security.md``): a model
pickle and a dataset YAML may only build this package's classes unless the user allows
more. A script hands its parsed command line to
:func:`~pylearn_vae.scripts._loading.load_model` and
:func:`~pylearn_vae.scripts._loading.load_dataset`, which read these two options from it
(:func:`load_options`).
"""

__all__ = ["add_load_options", "load_options"]


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


def load_options(args=None):
    """``{'allow_modules': tuple, 'trusted': bool}`` of a parsed command line ``args``
    (the keyword arguments of ``serial.load`` and ``yaml_parse.load``); None: the
    defaults, this package's classes only."""
    if args is None:
        return {"allow_modules": (), "trusted": False}
    return {"allow_modules": tuple(args.allow_modules), "trusted": bool(args.trust)}
