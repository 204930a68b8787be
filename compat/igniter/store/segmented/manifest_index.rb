# frozen_string_literal: true

# Moved to lib/igniter/store/storage/segmented/manifest_index.rb
# (loaded with the storage layer);
# kept so that `require "igniter/store/segmented/manifest_index"` still works.
require "igniter/store/storage"
