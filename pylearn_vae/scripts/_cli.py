"""What every script shares, in one import: ``from pylearn_vae.scripts import _cli``.

A script's ``main(argv=None)`` parses with :class:`ArgumentParser` (usage errors are one
line; --help ends with the script's ``EXAMPLES``), loads its model with
:func:`load_model` (or :func:`load_vae`) and its data with :func:`load_dataset`, checks
its output paths with :func:`check_output_path`, and runs its body inside
:func:`clear_errors`, which turns every error into one line on stderr and exit status 2
(an input error) or 1 (a runtime failure). Each concern has its module:

- :mod:`pylearn_vae.scripts._parsing`: the parsers, --help, argument types;
- :mod:`pylearn_vae.scripts._errors`: one-line errors and exit statuses;
- :mod:`pylearn_vae.scripts._load_options`: ``--allow-module`` and ``--trust``;
- :mod:`pylearn_vae.scripts._loading`: models and datasets;
- :mod:`pylearn_vae.scripts._outputs`: output paths and formats;
- :mod:`pylearn_vae.scripts._memory`: memory checks.
"""

from pylearn_vae.scripts._errors import (
    RUNTIME_ERROR,
    USAGE_ERROR,
    CliError,
    RuntimeFailure,
    clear_errors,
    debugging,
    exit_status,
    one_line,
    quiet_on_broken_pipe,
)
from pylearn_vae.scripts._load_options import add_load_options
from pylearn_vae.scripts._loading import (
    DATASET_NAMES,
    check_finite_params,
    dataset_view_shape,
    design_matrix,
    for_split,
    load_dataset,
    load_model,
    load_vae,
)
from pylearn_vae.scripts._memory import check_memory, keep_freed_memory
from pylearn_vae.scripts._outputs import (
    check_output_format,
    check_output_path,
    check_plot_output,
    matplotlib_extensions,
    unused_path,
)
from pylearn_vae.scripts._parsing import (
    ArgumentParser,
    OneLineErrors,
    examples_epilog,
    nonnegative_float,
    nonnegative_int,
    positive_float,
    positive_int,
)

__all__ = [
    "DATASET_NAMES",
    "RUNTIME_ERROR",
    "USAGE_ERROR",
    "ArgumentParser",
    "CliError",
    "OneLineErrors",
    "RuntimeFailure",
    "add_load_options",
    "check_finite_params",
    "check_memory",
    "check_output_format",
    "check_output_path",
    "check_plot_output",
    "clear_errors",
    "dataset_view_shape",
    "debugging",
    "design_matrix",
    "examples_epilog",
    "exit_status",
    "for_split",
    "keep_freed_memory",
    "load_dataset",
    "load_model",
    "load_vae",
    "matplotlib_extensions",
    "nonnegative_float",
    "nonnegative_int",
    "one_line",
    "positive_float",
    "positive_int",
    "quiet_on_broken_pipe",
    "unused_path",
]
