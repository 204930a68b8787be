# frozen_string_literal: true

# The backend contract's shared examples ship with the library (a backend
# written outside this repository runs the same lint); see doc/contracts.md.
require "igniter/store/contracts/backend_lint"
