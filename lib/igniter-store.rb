# frozen_string_literal: true

# Deprecated entry point kept for 0.5.x users.
warn "igniter-store is deprecated; require igniter-ledger instead" if $VERBOSE
require_relative "igniter-ledger"
