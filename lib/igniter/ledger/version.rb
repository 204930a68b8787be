# frozen_string_literal: true

module Igniter
  # Defined here as well as in store.rb so the gemspec can read the version
  # without loading the library; Igniter::Ledger is an alias of this module.
  module Store
    # The gem's own version (0.5.2 read its version from the igniter monorepo).
    VERSION = "0.6.0"
  end
end
