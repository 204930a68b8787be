# frozen_string_literal: true

# The envelope adapter contract's shared examples ship with the library; see doc/contracts.md.
require "igniter/store/contracts/envelope_adapter_lint"
