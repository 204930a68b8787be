# frozen_string_literal: true

# Moved to lib/igniter/store/storage/recovery/ledger_lock.rb
# (loaded with the storage layer);
# kept so that `require "igniter/store/recovery/ledger_lock"` still works.
require "igniter/store/storage"
