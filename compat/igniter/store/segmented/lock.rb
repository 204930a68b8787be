# frozen_string_literal: true

# Moved to lib/igniter/store/storage/segmented/lock.rb
# (loaded with the storage layer);
# kept so that `require "igniter/store/segmented/lock"` still works.
require "igniter/store/storage"
