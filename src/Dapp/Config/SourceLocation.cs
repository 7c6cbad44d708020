namespace Dapp.Config;

/// <summary>A 1-based position in a dappfile.</summary>
public sealed record SourceLocation(string File, int Line, int Column)
{
    public override string ToString() => $"{File}:{Line}:{Column}";
}
