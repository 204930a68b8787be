# frozen_string_literal: true

module Igniter
  module Store
    module Postgres
      # A named consumer of the ledger's facts across processes
      # ({PostgresBackend#follow}). Its position is kept in the `cursors`
      # table, so it resumes where it stopped after a restart or a SIGKILL.
      #
      # Delivery is at-least-once: the cursor moves after each page of facts
      # has been handled, so a crash redelivers at most that page; use the
      # fact id to drop duplicates. With `transactional: true` it is
      # exactly-once for effects in the same database: each fact is handed
      # over inside a transaction that also moves the cursor, on the session
      # the block receives, so the block's own SQL commits with the cursor or
      # not at all.
      #
      # One process per consumer name at a time: the follower holds a
      # session-level advisory lock on the name while it runs.
      class Follower
        # Facts handed to a consumer per batch.
        PAGE = 500
        # Accepted `from:` values besides a position.
        FROM = %i[start now].freeze

        # @return [String]
        attr_reader :consumer
        # @return [Integer] position of the last fact handled
        attr_reader :position

        # @param config [Config]
        # @param consumer [#to_s] the name whose position is kept
        # @param stores [Array<#to_s>, nil] only facts of these stores (nil: all)
        # @param from [Symbol] where a consumer seen for the first time starts:
        #   `:start` (position 0) or `:now` (the last committed position); a
        #   known consumer always resumes from its cursor
        # @param interval [Numeric] longest wait between polls without a NOTIFY
        # @param transactional [Boolean] see the class comment
        # @raise [ArgumentError] for a bad +from+ or an empty name
        def initialize(config, consumer:, stores: nil, from: :start, interval: 0.5, transactional: false)
          raise ArgumentError, "from: must be :start or :now, got #{from.inspect}" unless FROM.include?(from)

          @consumer = consumer.to_s
          raise ArgumentError, "consumer name must not be empty" if @consumer.empty?

          @config = config
          @stores = stores&.map { |s| JsonCanon.store_symbol(s).to_s }
          @from = from
          @transactional = transactional
          @wakeup = Wakeup.new(config, interval)
          @conn = Connection.new(config, "follow #{@consumer}")
          @reader = Reader.new(@conn, config)
          @running = false
          @position = nil
        end

        # Delivers facts until {#stop} is called (from the block or another
        # thread) or the block raises. The cursor holds the last handled fact.
        # @yieldparam fact [Fact]
        # @yieldparam position [Integer]
        # @yieldparam session [PG::Connection] (transactional only) in the fact's transaction
        # @return [self]
        # @raise [ConsumerBusyError] when another session runs this consumer
        def run(&block)
          raise ArgumentError, "Follower#run needs a block" unless block

          claim!
          @running = true
          while @running
            handled = poll(&block)
            @wakeup.wait if @running && handled < PAGE
          end
          self
        ensure
          release
        end

        # Makes {#run} return after the fact in hand. Thread-safe.
        # @return [void]
        def stop
          @running = false
        end

        # Releases the sessions (after {#run} returned).
        # @return [void]
        def close
          stop
          @wakeup.close
          @conn.close
        end

        private

        def claim!
          got = @conn.exec("igniter_claim", "SELECT pg_try_advisory_lock(hashtext($1), hashtext($2))",
                           [@config.schema, @consumer], retry_lost: false).getvalue(0, 0)
          unless got == "t"
            raise ConsumerBusyError.new("consumer #{@consumer.inspect} of #{@config.display_url} is already running " \
                                        "in another session", consumer: @consumer)
          end

          @claimed = true
          @claimed_pid = @conn.backend_pid
          start = @from == :now ? @reader.position : 0
          @conn.exec("igniter_cursor_init", "INSERT INTO #{@config.table("cursors")} (consumer, position) " \
                                            "VALUES ($1, $2) ON CONFLICT (consumer) DO NOTHING", [@consumer, start])
          @position = @conn.exec("igniter_cursor", "SELECT position FROM #{@config.table("cursors")} WHERE consumer = $1",
                                 [@consumer]).getvalue(0, 0).to_i
        end

        def release
          return unless @claimed

          @claimed = false
          @conn.exec("igniter_unclaim", "SELECT pg_advisory_unlock(hashtext($1), hashtext($2))",
                     [@config.schema, @consumer], retry_lost: false)
        rescue ConnectionError, *Connection::LOST, PG::Error
          nil # a lost session released its advisory lock with it
        end

        # A reconnected session lost the advisory lock with the old one:
        # claim the name again (another session may have taken it meanwhile)
        # and resume from the cursor.
        # @return [Boolean] true when it claimed again (the page in hand is dropped)
        def reclaim!
          return false if @conn.backend_pid == @claimed_pid

          @claimed = false
          claim!
          true
        end

        # @return [Integer] facts handled
        def poll(&block)
          page = @reader.page(@position, PAGE, @stores, durable: true)
          return 0 if reclaim! || page.empty?

          if @transactional
            page.each do |position, fact|
              break unless @running

              @conn.transaction { |c| c.synchronize { |pg| block.call(fact, position, pg) }; save(position) }
              @position = position
            end
          else
            page.each do |position, fact|
              block.call(fact, position)
              @position = position
              break unless @running
            end
            save(@position)
          end
          page.size
        rescue Exception # rubocop:disable Lint/RescueException -- keep what was handled before the block raised
          save(@position) unless @transactional
          raise
        end

        def save(position)
          @conn.exec("igniter_cursor_save", "UPDATE #{@config.table("cursors")} SET position = $2, updated_at = now() " \
                                            "WHERE consumer = $1", [@consumer, position])
        end
      end
    end
  end
end
