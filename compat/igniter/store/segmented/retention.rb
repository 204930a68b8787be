# frozen_string_literal: true

# Moved to lib/igniter/store/storage/segmented/retention.rb
# (loaded with the storage layer);
# kept so that `require "igniter/store/segmented/retention"` still works.
require "igniter/store/storage"
