# frozen_string_literal: true

require "tmpdir"
require "fileutils"
require "etc"
require "uri"

module Igniter
  module Store
    module Postgres
      # A private PostgreSQL cluster in a temporary directory, for the test
      # suite and the benchmarks: `initdb` as a non-root user, `pg_ctl start`
      # listening only on a unix socket inside that directory (no TCP port),
      # `synchronous_commit` and `fsync` on, stopped and deleted by {#stop}
      # (and by an `at_exit` hook, so no cluster outlives the Ruby process
      # that started it unless that process is SIGKILLed).
      #
      # Needs Debian's `postgresql` package (`bin/setup` installs it); the
      # binaries are looked up under `/usr/lib/postgresql/*/bin`.
      class ThrowawayCluster
        # Raised when the PostgreSQL server binaries cannot be found or the
        # cluster does not start.
        class Unavailable < Igniter::Store::Error; end

        # Where Debian installs the PostgreSQL server binaries.
        BIN_GLOB = "/usr/lib/postgresql/*/bin"
        # initdb refuses to run as root; the Debian package creates this user.
        SYSTEM_USER = "postgres"
        # Database created in the cluster.
        DATABASE = "ledger"

        # @return [String] the cluster directory (data in `data/`, socket here)
        attr_reader :dir

        # @return [String, nil] directory holding initdb, pg_ctl and postgres
        def self.bin_dir
          candidates = Dir[BIN_GLOB].select { |dir| File.executable?(File.join(dir, "pg_ctl")) }
          candidates.max_by { |dir| dir[%r{/(\d+)/bin\z}, 1].to_i }
        end

        # @param settings [Hash{String=>Object}] extra `postgres -c` settings
        def initialize(settings: {})
          @settings = {
            "listen_addresses" => "''", "synchronous_commit" => "on", "fsync" => "on",
            "max_connections" => 200, "shared_buffers" => "128MB"
          }.merge(settings.transform_keys(&:to_s))
          @bin = self.class.bin_dir
          @dir = nil
        end

        # initdb + start; idempotent.
        # @return [self]
        # @raise [Unavailable] no PostgreSQL binaries, or initdb / pg_ctl failed
        def start
          return self if @dir

          raise Unavailable, "PostgreSQL server binaries not found under #{BIN_GLOB} (run bin/setup)" unless @bin

          @dir = Dir.mktmpdir("igniter-ledger-pg-")
          @owner = $$
          File.chmod(0o700, @dir)
          FileUtils.chown(SYSTEM_USER, nil, @dir) if root?
          at_exit { stop if @owner == $$ }
          run!("initdb", "-D", data_dir, "-A", "trust", "-U", SYSTEM_USER, "-E", "UTF8", "--locale=C", "--no-sync")
          run!("pg_ctl", "-D", data_dir, "-l", File.join(@dir, "server.log"), "-w", "-t", "60",
               "-o", server_options, "start")
          run!("createdb", "-h", @dir, "-U", SYSTEM_USER, DATABASE)
          self
        rescue Unavailable
          stop
          raise
        end

        # @return [Boolean]
        def running?
          !@dir.nil?
        end

        # A libpq URL to the cluster's database over its unix socket.
        # @param database [String]
        # @return [String]
        def url(database: DATABASE)
          raise Unavailable, "cluster not started" unless @dir

          "postgresql://#{SYSTEM_USER}@/#{database}?host=#{URI.encode_www_form_component(@dir)}"
        end

        # Stops the server (fast shutdown) and deletes the directory. Idempotent.
        # @return [void]
        def stop
          dir = @dir or return
          @dir = nil
          if File.exist?(File.join(dir, "data", "postmaster.pid"))
            system(*command("pg_ctl", "-D", File.join(dir, "data"), "-m", "fast", "-w", "stop"),
                   out: File::NULL, err: File::NULL)
          end
          FileUtils.rm_rf(dir)
        end

        # @return [String] the server log so far ("" when none)
        def log
          @dir ? File.read(File.join(@dir, "server.log")) : ""
        rescue Errno::ENOENT
          ""
        end

        private

        def data_dir
          File.join(@dir, "data")
        end

        def server_options
          @settings.merge("unix_socket_directories" => "'#{@dir}'").map { |k, v| "-c #{k}=#{v}" }.join(" ")
        end

        def root?
          Process.uid.zero?
        end

        # As root the command runs as the postgres system user.
        def command(tool, *args)
          cmd = [File.join(@bin, tool), *args]
          root? ? ["runuser", "-u", SYSTEM_USER, "--", *cmd] : cmd
        end

        def run!(tool, *args)
          out = IO.popen(command(tool, *args), err: %i[child out], &:read)
          return if $?.success?

          raise Unavailable, "#{tool} failed (exit #{$?.exitstatus}): #{out.strip.lines.last(5).join}#{log.lines.last(5).join}"
        rescue Errno::ENOENT => e
          raise Unavailable, "#{tool}: #{e.message} (run bin/setup)"
        end
      end
    end
  end
end
