# frozen_string_literal: true

# Moved to lib/igniter/store/storage/recovery/window.rb
# (loaded with the storage layer);
# kept so that `require "igniter/store/recovery/window"` still works.
require "igniter/store/storage"
