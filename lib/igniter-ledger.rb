# frozen_string_literal: true

# Canonical entry point of the igniter-ledger gem.
require_relative "igniter/store"
require_relative "igniter/ledger"
