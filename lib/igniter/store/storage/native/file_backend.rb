# frozen_string_literal: true

module Igniter
  module Store
    # The Rust extension defined FileBackend; add what callers read from the
    # Ruby side on both paths, unless the extension already provides it.
    # Bound by core/native.rb on the native path (the pure half is
    # storage/pure/file_backend.rb).
    class FileBackend
      SNAPSHOT_SUFFIX = ".snap" unless const_defined?(:SNAPSHOT_SUFFIX, false)
    end
  end
end
