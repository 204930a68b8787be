# frozen_string_literal: true

# Moved to lib/igniter/store/storage/segmented/recovery_report.rb
# (loaded with the storage layer);
# kept so that `require "igniter/store/segmented/recovery_report"` still works.
require "igniter/store/storage"
