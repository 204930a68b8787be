# frozen_string_literal: true

# Moved to lib/igniter/store/storage/recovery/quarantine.rb
# (loaded with the storage layer);
# kept so that `require "igniter/store/recovery/quarantine"` still works.
require "igniter/store/storage"
