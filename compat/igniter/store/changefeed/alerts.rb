# frozen_string_literal: true

# Moved to lib/igniter/store/feed/changefeed_buffer/alerts.rb
# (loaded with the feed layer);
# kept so that `require "igniter/store/changefeed/alerts"` still works.
require "igniter/store/feed"
