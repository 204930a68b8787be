# frozen_string_literal: true

module Igniter
  module Store
    module Transport
      # What an exception may tell a remote peer or a log line: the first
      # line of its own message. Ruby's error_highlight and did_you_mean
      # append source snippets on later lines, which must not leave the server.
      module ErrorText
        module_function

        # @param error [Exception]
        # @return [String]
        def first_line(error)
          text = error.respond_to?(:original_message) ? error.original_message : error.message
          text.to_s.lines.first.to_s.chomp
        end

        # {.first_line}, cut to +max+ characters; never raises (a broken
        # #message yields the class name).
        # @param error [Exception]
        # @param max [Integer]
        # @return [String]
        def bounded(error, max)
          first_line(error)[0, max]
        rescue StandardError
          error.class.name.to_s
        end
      end
    end
  end
end
