# frozen_string_literal: true

# Moved to lib/igniter/store/storage/segmented/atomic_file.rb
# (loaded with the storage layer);
# kept so that `require "igniter/store/segmented/atomic_file"` still works.
require "igniter/store/storage"
