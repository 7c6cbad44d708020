using System.Text.RegularExpressions;

namespace Dapp.Engine;

/// <summary>
/// The engine's pull or push of an image failed. The engine reports registry failures only as text; this tells the
/// transient ones (408, 429, 5xx, broken or refused connections, timeouts), worth another try, from the others
/// (unknown manifest, denied, unauthorized), which fail at once.
/// </summary>
internal sealed partial class EngineTransferException : DappException
{
    private readonly bool? _transient;

    /// <param name="transient">What dapp knows of the failure; null to read it from the engine's message.</param>
    public EngineTransferException(string message, Exception? inner = null, bool? transient = null) : base(message, inner!) => _transient = transient;

    /// <summary>
    /// The engine reported nothing for a whole stall timeout and dapp cancelled it. Permanent: the registry that
    /// stopped answering the engine would not answer dapp's own client either, and every command must end within a
    /// minute of a stall (docs/reliability.md).
    /// </summary>
    public static EngineTransferException Stalled(string what, TimeSpan timeout) =>
        new($"{what}: the engine reported no progress for {timeout.TotalSeconds:0} s (the registry stopped answering it?); dapp cancelled it", transient: false);

    /// <summary>The engine began its own slow retries of a layer (fixed waits, blind to Retry-After): dapp takes over.</summary>
    public static EngineTransferException LayerRetried(string what) =>
        new($"{what}: the registry failed a layer transfer and the engine began its own retries (Retrying in 5 seconds)", transient: true);

    /// <remarks>
    /// "blob unknown to registry" and "digest invalid" count as transient: two pushers of the same image (two jobs, or
    /// two hosts) race on its blobs, and the loser's manifest finds a blob not yet linked; a retry finds it.
    /// </remarks>
    public override bool IsTransient => _transient ?? (!Permanent().IsMatch(Message) && Transient().IsMatch(Message));

    /// <summary>The local name to push was removed (by another dapp process that pushed the same stage): tag it again.</summary>
    public bool IsMissingLocalImage => MissingLocal().IsMatch(Message);

    [GeneratedRegex(@"HTTP (status:? )?(408|429|5\d\d)\b|StatusCode: (408|429|5\d\d)\b|\b(408|429|5\d\d) \(?(Request Timeout|Too Many Requests|Internal Server Error|Bad Gateway|Service Unavailable|Gateway Time-?out)|toomanyrequests|too many requests|connection reset|connection refused|broken pipe|unexpected EOF|\bEOF\b|i/o timeout|timeout exceeded|TLS handshake timeout|timed out|temporarily unavailable|server misbehaving|blob unknown to registry|digest invalid",
        RegexOptions.IgnoreCase)]
    private static partial Regex Transient();

    [GeneratedRegex(@"manifest unknown|name unknown|unauthorized|denied|authentication required|no basic auth credentials|invalid reference|repository .* not found|does not exist locally|tag does not exist|no such host", RegexOptions.IgnoreCase)]
    private static partial Regex Permanent();

    /// <summary>
    /// The engine cannot read the image's manifest, which dapp's own client reads: Podman refuses a manifest of OCI type
    /// naming Docker blob types (stages published by dapp before 2026-12, docs/compatibility.md).
    /// </summary>
    public bool IsUnreadableManifest => UnreadableManifest().IsMatch(Message);

    [GeneratedRegex(@"unsupported image-specific operation on artifact", RegexOptions.IgnoreCase)]
    private static partial Regex UnreadableManifest();

    [GeneratedRegex(@"does not exist locally|tag does not exist|No such image", RegexOptions.IgnoreCase)]
    private static partial Regex MissingLocal();
}
