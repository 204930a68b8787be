# frozen_string_literal: true

# Moved to lib/igniter/store/storage/codecs/compact_delta.rb
# (loaded with the storage layer);
# kept so that `require "igniter/store/codecs/compact_delta"` still works.
require "igniter/store/storage"
