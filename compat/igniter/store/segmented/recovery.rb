# frozen_string_literal: true

# Moved to lib/igniter/store/storage/segmented/recovery.rb
# (loaded with the storage layer);
# kept so that `require "igniter/store/segmented/recovery"` still works.
require "igniter/store/storage"
