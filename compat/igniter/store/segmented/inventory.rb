# frozen_string_literal: true

# Moved to lib/igniter/store/storage/segmented/inventory.rb
# (loaded with the storage layer);
# kept so that `require "igniter/store/segmented/inventory"` still works.
require "igniter/store/storage"
