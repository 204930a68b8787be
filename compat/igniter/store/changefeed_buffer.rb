# frozen_string_literal: true

# Moved to lib/igniter/store/feed/changefeed_buffer.rb
# (loaded with the feed layer);
# kept so that `require "igniter/store/changefeed_buffer"` still works.
require "igniter/store/feed"
