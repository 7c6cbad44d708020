using System.Formats.Tar;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;

namespace Dapp.Engine;

/// <summary>A layer of an image in a docker-save tar: its file name there, and how to open its tar (null: the engine has it).</summary>
internal sealed record SaveArchiveLayer(string Name, Func<Stream>? Open);

/// <summary>
/// Streams one image as a docker-save tar into the engine's load API, which names the image only once it is whole.
/// Layers the engine has are listed but not sent: the engine opens a layer file only for a layer it lacks. The
/// layers go first and the config after them (the engine reads the whole tar before its manifest), so a config may
/// depend on a layer streamed as it is made.
/// </summary>
internal static class SaveArchive
{
    /// <summary>Pipes that let a few MiB through before the writer waits (the default pauses every 64 KiB).</summary>
    public static PipeOptions PipeOptions { get; } = new(pauseWriterThreshold: 8 << 20, resumeWriterThreshold: 4 << 20);

    /// <param name="tag">The name the image gets; null leaves it untagged (then it is found by its ID, the config's digest).</param>
    /// <param name="config">The image's config, asked for once the layers are written.</param>
    public static async Task LoadAsync(IDockerEngine engine, string? tag, Func<byte[]> config, IReadOnlyList<SaveArchiveLayer> layers, CancellationToken ct)
    {
        var pipe = new Pipe(PipeOptions);
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var writing = Task.Run(async () =>
        {
            Exception? failure = null;
            try
            {
                await using var output = pipe.Writer.AsStream(leaveOpen: true);
                await using var tar = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true);
                var written = new HashSet<string>();
                foreach (var layer in layers)
                {
                    // A layer listed twice (the same empty layer of two commits) is one file.
                    if (layer.Open is null || !written.Add(layer.Name)) continue;
                    await using var data = layer.Open();
                    await tar.WriteEntryAsync(File(layer.Name, data), abort.Token);
                }
                var configBytes = config();
                var configName = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(configBytes)) + ".json";
                var tags = tag is null ? "" : $",\"RepoTags\":[{JsonString(tag)}]";
                var manifest = $"[{{\"Config\":{JsonString(configName)}{tags},\"Layers\":[{string.Join(",", layers.Select(l => JsonString(l.Name)))}]}}]";
                await tar.WriteEntryAsync(File(configName, new MemoryStream(configBytes)), abort.Token);
                await tar.WriteEntryAsync(File("manifest.json", new MemoryStream(Encoding.UTF8.GetBytes(manifest))), abort.Token);
            }
            catch (Exception e)
            {
                failure = e;
            }
            finally
            {
                await pipe.Writer.CompleteAsync(failure);
            }
            if (failure is not null) throw failure;
        }, abort.Token);
        try
        {
            await using (var input = pipe.Reader.AsStream())
                await engine.LoadAsync(input, ct);
        }
        catch
        {
            // What the engine says of a tar cut short is not the cause: a failure of the writer (a layer that could
            // not be made) is; else the engine's error stands.
            abort.Cancel();
            try
            {
                await writing;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e);
            }
            catch (OperationCanceledException)
            {
            }
            throw;
        }
        await writing;
    }

    private static PaxTarEntry File(string name, Stream data) => new(TarEntryType.RegularFile, name) { DataStream = data, Mode = (UnixFileMode)0b110_100_100 };

    private static string JsonString(string value) => JsonSerializer.Serialize(value, SaveArchiveJson.Default.String);
}

[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class SaveArchiveJson : System.Text.Json.Serialization.JsonSerializerContext;
