# frozen_string_literal: true

# Moved to lib/igniter/store/storage/codecs/json_crc32.rb
# (loaded with the storage layer);
# kept so that `require "igniter/store/codecs/json_crc32"` still works.
require "igniter/store/storage"
