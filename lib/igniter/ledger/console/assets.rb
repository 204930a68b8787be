# frozen_string_literal: true

require "digest"

module Igniter
  module Ledger
    class Console
      # The console's stylesheet and script, shipped as plain files in the
      # gem (`console/assets/`): no CDN, no build step. Read once and served
      # with a content hash as ETag, so a browser revalidates cheaply.
      module Assets
        # Directory of the console's static files.
        DIR = File.expand_path("assets", __dir__)
        # Content type by file extension (only CSS and JavaScript are served).
        TYPES = { ".css" => "text/css; charset=utf-8", ".js" => "text/javascript; charset=utf-8" }.freeze
        # Asset file name => its bytes, content type and ETag, read once at load.
        FILES = TYPES.keys.flat_map { |ext| Dir[File.join(DIR, "*#{ext}")] }.to_h do |path|
          body = File.binread(path).freeze
          [File.basename(path), { body: body, type: TYPES.fetch(File.extname(path)),
                                  etag: %("#{Digest::SHA256.hexdigest(body)[0, 16]}") }.freeze]
        end.freeze

        module_function

        # @param name [String] file name below `assets/`
        # @param if_none_match [String, nil] the request's If-None-Match
        # @return [Array, nil] Rack response, nil for an unknown name
        def serve(name, if_none_match)
          file = FILES[name]
          return nil unless file

          headers = { "Content-Type" => file[:type], "ETag" => file[:etag], "Cache-Control" => "no-cache",
                      "X-Content-Type-Options" => "nosniff" }
          return [304, headers, []] if if_none_match == file[:etag]

          [200, headers.merge("Content-Length" => file[:body].bytesize.to_s), [file[:body]]]
        end
      end
    end
  end
end
