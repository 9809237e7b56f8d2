import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

# The tests' own helper modules, which their YAML strings and pickles name, are allowed
# the way a user allows theirs (docs/security.md); tests/test_security.py clears this.
HELPER_MODULES = "yaml_helpers,test_train_helpers"


@pytest.fixture(autouse=True)
def _allow_test_helper_modules(monkeypatch):
    monkeypatch.setenv("PYLEARN_VAE_ALLOW_MODULES", HELPER_MODULES)
