# frozen_string_literal: true

# The layers, bottom up. Each entry file requires the layer beneath it, so any
# of them loads alone, and so does every 0.5.2 and 0.6 path (compat/, a file
# per old path that requires its layer). Folders under store/ are these
# layers; a class's private parts live in a folder named after it (README
# "Layout").
#
#   core/       errors, Fact, FactLog, canonical JSON, fact body; native.rb is
#               the one place the Rust and pure-Ruby halves are chosen
#   storage/    WAL frames, FileBackend, codecs, SegmentedFileBackend,
#               recovery, PostgresBackend (autoloaded)
#   feed/       change events, ChangefeedBuffer, subscriptions, event ring
#   engine/     IgniterStore and its collaborators
#   protocol/   the open protocol: interpreter, handlers, wire envelope,
#               receipts, the TBackend descriptor
#   transport/  clock, socket IO, framing, auth, TLS, the accept loop
#   server/     StoreServer (op protocol), config, logger, metrics, NetworkBackend
#   adapters/   TCPAdapter, HTTPAdapter (+ SSE), MCPAdapter
#   cli/        the `igniter-ledger` command (required by exe/, not here)
require_relative "store/core"
require_relative "store/storage"
require_relative "store/feed"
require_relative "store/engine"
require_relative "store/protocol"
require_relative "store/transport"
require_relative "store/servers"
require_relative "store/adapters"

# The igniter family of packages; this gem defines {Igniter::Store} (alias Igniter::Ledger).
module Igniter
  # Append-only bitemporal fact ledger. Also reachable as Igniter::Ledger.
  module Store
    # @return [IgniterStore] an in-memory store
    def self.memory
      IgniterStore.new
    end

    # A ledger on a server, read and written there: nothing is replayed into
    # this process (see {RemoteStore}).
    #
    #   store = Igniter::Store.remote("127.0.0.1:7400", token: ENV["LEDGER_TOKEN"])
    #   store.read(store: :tasks, key: "t1")
    #
    # @param address [String] "host:port" of the server's op-protocol listener
    # @param token [String, nil] its read or write token
    # @param options [Hash] {RemoteStore#initialize} options (`timeout:`, `tls:`, `ca_file:`, …)
    # @return [RemoteStore]
    def self.remote(address, token: nil, **options)
      RemoteStore.new(address, token: token, **options)
    end

    POSTGRES_URL = %r{\Apostgres(?:ql)?://}i
    private_constant :POSTGRES_URL

    # @param path [String] WAL file; created when absent. A `postgres://` or
    #   `postgresql://` URL opens {postgres} instead.
    # @param options [Hash] {IgniterStore.open} options (`lru_cap:`, `recovery:`, `read_only:`)
    # @return [IgniterStore] a file-backed store with the WAL replayed
    def self.open(path, **options)
      return postgres(path, **options) if path.is_a?(String) && path.match?(POSTGRES_URL)

      IgniterStore.open(path, **options)
    end

    # A store over a {PostgresBackend}: reads and writes go to SQL, so any
    # number of processes share one ledger; nothing is replayed on open.
    #
    # @param url [String, nil] libpq URL or conninfo (nil: $DATABASE_URL, or +connection:+)
    # @param lru_cap [Integer] see {IgniterStore#initialize}
    # @param changefeed [#emit, nil] receives every fact committed by any process
    # @param backend_options [Hash] {PostgresBackend#initialize} keywords (schema:, timeouts, connection:)
    # @return [IgniterStore]
    def self.postgres(url = nil, lru_cap: ReadCache::DEFAULT_LRU_CAP, changefeed: nil, **backend_options)
      backend = PostgresBackend.new(url: url, **backend_options)
      begin
        IgniterStore.new(backend: backend, lru_cap: lru_cap, changefeed: changefeed)
      rescue StandardError
        backend.close
        raise
      end
    end

    # @param root_dir [String] directory of the segmented WAL; created when absent
    # @param options [Hash] {SegmentedFileBackend#initialize} options, among
    #   them `recovery:` (`:salvage`, `:strict`, `:truncate`) and `read_only:`
    # @return [IgniterStore] a store over a {SegmentedFileBackend}, replayed
    # @raise [CorruptLedgerError] `recovery: :strict` found damage (the
    #   backend is closed again, its lock released)
    def self.segmented(root_dir, **options)
      backend = SegmentedFileBackend.new(root_dir, **options)
      begin
        store = IgniterStore.new(backend: backend)
        store.replay_from(backend)
      rescue Exception # rubocop:disable Lint/RescueException
        backend.close
        raise
      end
      store
    end

    # @return [AccessPath]
    def self.access_path(...)
      AccessPath.new(...)
    end
  end
end
