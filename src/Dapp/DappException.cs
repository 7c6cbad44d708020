namespace Dapp;

/// <summary>A failure caused by the user's input or environment: reported as a message, never a stack trace.</summary>
public class DappException : Exception
{
    public DappException(string message) : base(message) { }
    public DappException(string message, Exception inner) : base(message, inner) { }

    /// <summary>
    /// The one verdict every failure answers: transient (the same operation may succeed if tried again: a registry
    /// that is busy or was not reached, a lost upload session) or permanent (trying again gets the same answer).
    /// Retry loops ask this and nothing else; whether another try is affordable is the retry budget's call.
    /// </summary>
    public virtual bool IsTransient => false;
}
