# frozen_string_literal: true

module Igniter
  module Store
    module CLI
      # The progress bar of a long run: drawn with Debian's ruby-progressbar
      # on standard error when that is a terminal, and nothing at all
      # otherwise — in a pipe, a log file, or without the library (it is
      # optional: the gem does not depend on it).
      class Progress
        # A bar that draws nothing.
        class Silent
          # @param _position [Integer]
          # @return [nil]
          def progress=(_position); end

          # @return [nil]
          def finish; end
        end

        # The shared bar that draws nothing.
        NONE = Silent.new.freeze

        # @return [Boolean] whether ruby-progressbar can be loaded
        def self.available?
          return @available unless @available.nil?

          @available = begin
            require "ruby-progressbar"
            true
          rescue LoadError
            false
          end
        end

        # @param io [IO] where the bar goes (standard error)
        # @param title [String]
        # @param total [Integer] units of work (usually bytes)
        # @param enabled [Boolean] false for `--no-progress`
        # @return [Progress, Silent]
        def self.start(io, title:, total:, enabled: true)
          return NONE unless enabled && total.positive? && io.respond_to?(:tty?) && io.tty? && available?

          new(io, title, total)
        end

        # @param io [IO]
        # @param title [String]
        # @param total [Integer]
        def initialize(io, title, total)
          @total = total
          # throttle_rate: redraw at most ten times a second, so a bar costs
          # nothing next to the work it reports.
          @bar = ProgressBar.create(output: io, title: title, total: total, throttle_rate: 0.1,
                                    format: "%t |%B| %p%% %e")
        end

        # @param position [Integer] units done so far
        # @return [Integer]
        def progress=(position)
          @bar.progress = position.clamp(0, @total)
        end

        # Draws the full bar and ends its line.
        # @return [nil]
        def finish
          @bar.finish unless @bar.finished?
          nil
        end
      end
    end
  end
end
