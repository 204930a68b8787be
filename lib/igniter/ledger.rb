# frozen_string_literal: true

require_relative "store"

module Igniter
  # Igniter::Ledger is the same module object as Igniter::Store.
  Ledger = Store unless const_defined?(:Ledger, false)
end
