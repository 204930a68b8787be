# frozen_string_literal: true

# Moved to lib/igniter/store/storage/pure/file_backend.rb
# (loaded with the storage layer);
# kept so that `require "igniter/store/file_backend"` still works.
require "igniter/store/storage"
