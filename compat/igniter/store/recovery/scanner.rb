# frozen_string_literal: true

# Moved to lib/igniter/store/storage/recovery/scanner.rb
# (loaded with the storage layer);
# kept so that `require "igniter/store/recovery/scanner"` still works.
require "igniter/store/storage"
