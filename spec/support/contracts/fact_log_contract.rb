# frozen_string_literal: true

# The fact-log contract's shared examples ship with the library; see doc/contracts.md.
require "igniter/store/contracts/fact_log_lint"
