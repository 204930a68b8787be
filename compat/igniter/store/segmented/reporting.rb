# frozen_string_literal: true

# Moved to lib/igniter/store/storage/segmented/reporting.rb
# (loaded with the storage layer);
# kept so that `require "igniter/store/segmented/reporting"` still works.
require "igniter/store/storage"
