# frozen_string_literal: true

# Moved to lib/igniter/store/storage/segmented/reading.rb
# (loaded with the storage layer);
# kept so that `require "igniter/store/segmented/reading"` still works.
require "igniter/store/storage"
