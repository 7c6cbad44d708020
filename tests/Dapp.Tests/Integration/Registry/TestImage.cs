using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Dapp.Registry.Model;
using Dapp.Registry.Names;
using Dapp.Registry.Remote;

namespace Dapp.Tests.Integration.Registry;

/// <summary>A small image made in memory: one gzipped layer with the given files (plus busybox, so it runs), a config, a manifest.</summary>
public sealed class TestImage
{
    public required byte[] Layer { get; init; }
    public required byte[] Config { get; init; }
    public required RawManifest Manifest { get; init; }

    public Descriptor LayerDescriptor => Manifest.AsManifest().Layers[0];
    public Descriptor ConfigDescriptor => Manifest.AsManifest().Config;

    public static TestImage Create(IReadOnlyDictionary<string, string> files, IReadOnlyDictionary<string, string>? labels = null,
        string architecture = "amd64", bool withBusybox = true)
    {
        var tar = new MemoryStream();
        using (var writer = new TarWriter(tar, TarEntryFormat.Pax, leaveOpen: true))
        {
            if (withBusybox)
            {
                writer.WriteEntry(new PaxTarEntry(TarEntryType.Directory, "bin/") { Mode = (UnixFileMode)0b111_101_101 });
                var busybox = new PaxTarEntry(TarEntryType.RegularFile, "bin/busybox") { Mode = (UnixFileMode)0b111_101_101, DataStream = File.OpenRead("/bin/busybox") };
                writer.WriteEntry(busybox);
                busybox.DataStream!.Dispose();
            }
            foreach (var (path, content) in files)
                writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, path.TrimStart('/'))
                {
                    Mode = (UnixFileMode)0b110_100_100,
                    DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content)),
                });
        }
        var diffId = Digest.Of(tar.ToArray());
        var gz = new MemoryStream();
        using (var gzip = new GZipStream(gz, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(tar.ToArray());
        var layer = gz.ToArray();
        var config = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["architecture"] = architecture,
            ["os"] = "linux",
            ["config"] = new Dictionary<string, object> { ["Labels"] = labels ?? new Dictionary<string, string>(), ["Cmd"] = new[] { "/bin/busybox", "true" } },
            ["rootfs"] = new Dictionary<string, object> { ["type"] = "layers", ["diff_ids"] = new[] { diffId } },
        });
        var manifest = new Manifest(2, MediaTypes.DockerManifest,
            new Descriptor(MediaTypes.DockerConfig, Digest.Of(config), config.Length),
            [new Descriptor(MediaTypes.DockerLayer, Digest.Of(layer), layer.Length)]);
        return new TestImage { Layer = layer, Config = config, Manifest = RawManifest.From(manifest) };
    }

    public async Task PushAsync(RegistryClient client, RepositoryName repository, string tag, CancellationToken ct = default)
    {
        await client.UploadBlobAsync(repository, LayerDescriptor, Open(Layer), null, null, ct);
        await client.UploadBlobAsync(repository, ConfigDescriptor, Open(Config), null, null, ct);
        await client.PutManifestAsync(repository, tag, Manifest, ct);
    }

    public static Func<long, CancellationToken, Task<Stream>> Open(byte[] content) =>
        (offset, _) => Task.FromResult<Stream>(new MemoryStream(content, (int)offset, content.Length - (int)offset));
}
