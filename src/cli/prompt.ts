// Questions at the terminal: answers that echo, and passwords that do not.
import { createInterface } from 'node:readline'
import { Writable } from 'node:stream'
import { CliError } from './command.js'

export interface Prompter {
  /** Asks for one line, echoed as it is typed. */
  ask (question: string): Promise<string>
  /** Asks for one line without echoing it (a password). */
  askHidden (question: string): Promise<string>
  /** A line for the person at the terminal, on the prompt's output. */
  say (line: string): void
  close (): void
}

/**
 * One readline interface for every question, so lines typed (or pasted) ahead are not lost between
 * questions. Ctrl-C cancels (exit 130); the end of the input before an answer is an error.
 */
export function createPrompter (input: NodeJS.ReadableStream, output: NodeJS.WritableStream): Prompter {
  // Muted except while a visible question waits: what is typed ahead of a prompt may be a password.
  let muted = true
  const echo = new Writable({
    write (chunk, _encoding, done) {
      if (!muted) output.write(chunk)
      done()
    }
  })
  // terminal: true puts a TTY in raw mode, so the terminal itself echoes nothing; what readline
  // echoes goes through `echo`, which drops it while a password is typed.
  const rl = createInterface({ input, output: echo, terminal: true })
  const typedAhead: string[] = []
  let waiting: { resolve (line: string): void, reject (err: Error): void } | undefined
  let ended: CliError | undefined

  function end (err: CliError): void {
    ended ??= err
    waiting?.reject(ended)
    waiting = undefined
    rl.close()
  }

  rl.on('line', line => {
    if (waiting === undefined) {
      typedAhead.push(line)
      return
    }
    const { resolve } = waiting
    waiting = undefined
    resolve(line)
  })
  rl.on('SIGINT', () => {
    if (!muted) output.write('\n')
    end(new CliError('Cancelled.', 130))
  })
  rl.on('close', () => end(new CliError('No answer: the input ended before the question was answered.')))

  function nextLine (): Promise<string> {
    const line = typedAhead.shift()
    if (line !== undefined) return Promise.resolve(line)
    if (ended !== undefined) return Promise.reject(ended)
    return new Promise((resolve, reject) => { waiting = { resolve, reject } })
  }

  return {
    async ask (question) {
      muted = false
      rl.setPrompt(question)
      rl.prompt()
      try {
        return await nextLine()
      } finally {
        muted = true
      }
    },
    async askHidden (question) {
      // Written past readline, so its redraws (muted) cannot erase the question.
      rl.setPrompt('')
      output.write(question)
      try {
        return await nextLine()
      } finally {
        output.write('\n')
      }
    },
    say (line) {
      output.write(`${line}\n`)
    },
    close () {
      if (ended === undefined) end(new CliError('closed'))
    }
  }
}
