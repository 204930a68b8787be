# frozen_string_literal: true

# Moved to lib/igniter/store/storage/segmented/quarantine.rb
# (loaded with the storage layer);
# kept so that `require "igniter/store/segmented/quarantine"` still works.
require "igniter/store/storage"
