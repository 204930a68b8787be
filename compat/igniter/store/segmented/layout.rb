# frozen_string_literal: true

# Moved to lib/igniter/store/storage/segmented/layout.rb
# (loaded with the storage layer);
# kept so that `require "igniter/store/segmented/layout"` still works.
require "igniter/store/storage"
