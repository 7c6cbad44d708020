namespace Dapp.Config;

/// <summary>Finds, renders and parses the dappfile of a work dir.</summary>
internal static class DappfileLoader
{
    public static readonly string[] FileNames = ["dappfile.yml", "dappfile.yaml"];

    /// <summary>Real dappfiles are a few KiB; anything near this is a mistake (a binary, a log) that should fail fast.</summary>
    public const int MaxSize = 4 << 20;

    private static readonly System.Text.UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The text of the dappfile: UTF-8 (a BOM is allowed) without NUL characters, else an error at the first bad byte.</summary>
    /// <summary>UTF-8 text (a BOM is skipped), else a template error naming the file (what <c>.Files.Get</c> reads).</summary>
    internal static string DecodeUtf8(byte[] bytes, string file)
    {
        var start = BomLength(bytes);
        try
        {
            return StrictUtf8.GetString(bytes, start, bytes.Length - start);
        }
        catch (System.Text.DecoderFallbackException)
        {
            throw new Templates.TemplateRuntimeException($"{file}: the file is not UTF-8 text");
        }
    }

    private static int BomLength(byte[] bytes) => bytes.AsSpan().StartsWith((byte[])[0xEF, 0xBB, 0xBF]) ? 3 : 0;

    internal static string Decode(byte[] bytes, string file)
    {
        var start = BomLength(bytes);
        string text;
        try
        {
            text = StrictUtf8.GetString(bytes, start, bytes.Length - start);
        }
        catch (System.Text.DecoderFallbackException e)
        {
            var valid = StrictUtf8.GetString(bytes, start, Math.Max(0, e.Index));
            throw new DappfileException(SourceLocation.Of(valid, valid.Length, file), "the file is not valid UTF-8 text (is it a binary file?)");
        }
        var nul = text.IndexOf('\0');
        if (nul >= 0)
            throw new DappfileException(SourceLocation.Of(text, nul, file), "the file contains a NUL character (is it a binary file?)");
        return text;
    }

    /// <summary>Where a rendered dappfile that does not parse is written, as dapp did, for the user to look at.</summary>
    public const string RenderDumpName = ".dappfile.render.yml";

    /// <param name="projectRoot">The root of the project's files (the git work tree holding the work dir, else the work dir).</param>
    public static async Task<Dappfile> LoadAsync(string workDir, string projectRoot, Func<string, string?> environment, CancellationToken cancellationToken,
        Action<string>? warn = null)
    {
        var (path, text, rendered) = await RenderAsync(workDir, projectRoot, environment, cancellationToken, warn);
        try
        {
            return DappfileParser.Parse(rendered, path);
        }
        catch (DappfileException e) when (rendered != text)
        {
            // The rendering may hold what env put in it (a token): readable by the user alone.
            var dump = Path.Combine(workDir, RenderDumpName);
            File.Delete(dump);
            await using (var writer = new StreamWriter(PrivateFiles.Create(dump)))
                await writer.WriteAsync(rendered.AsMemory(), cancellationToken);
            throw new DappfileException(e.Location, $"{e.Reason} (in the rendered dappfile, written to {dump}, readable by you alone; lines are those of the rendering)");
        }
    }

    /// <summary>The dappfile's path, its text, and its text as the templates render it (<c>dapp dimg render</c>).</summary>
    public static Task<(string Path, string Text, string Rendered)> RenderAsync(string workDir, string projectRoot, Func<string, string?> environment,
        CancellationToken cancellationToken, Action<string>? warn = null)
    {
        var path = FileNames.Select(n => Path.Combine(workDir, n)).FirstOrDefault(p => File.Exists(p) || new FileInfo(p).LinkTarget is not null)
            ?? throw new DappException($"No dappfile.yml or dappfile.yaml in {workDir}");
        var file = Path.GetFileName(path);
        var files = new ProjectFiles(projectRoot, workDir);
        string real;
        try
        {
            real = files.Resolve(file, file);
        }
        catch (Templates.TemplateRuntimeException e)
        {
            throw new DappfileException(new SourceLocation(file, 1, 1), e.Message);
        }
        if (!File.Exists(real)) throw new DappException($"{path} leads to {real}, which does not exist");
        var bytes = ProjectFiles.ReadBounded(real, MaxSize)
            ?? throw new DappfileException(new SourceLocation(file, 1, 1), $"the file is {new FileInfo(real).Length} bytes, more than the {MaxSize >> 20} MiB a dappfile may have");
        cancellationToken.ThrowIfCancellationRequested();
        var text = Decode(bytes, file);
        return Task.FromResult((path, text, DappfileTemplate.Render(text, file, environment, files, warn)));
    }
}
