# frozen_string_literal: true

# Moved to lib/igniter/store/storage/segmented_file_backend.rb
# (loaded with the storage layer);
# kept so that `require "igniter/store/segmented_file_backend"` still works.
require "igniter/store/storage"
