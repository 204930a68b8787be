# frozen_string_literal: true

# Moved to lib/igniter/store/storage/segmented/appending.rb
# (loaded with the storage layer);
# kept so that `require "igniter/store/segmented/appending"` still works.
require "igniter/store/storage"
