/**
 * The error thrown for unreadable, corrupt or missing dataset files.
 */
import { TopdownUsageError } from '../core/errors.js';

/**
 * A dataset file is missing, unreadable or corrupt (wrong magic number, wrong dimensions, truncated, a label
 * out of range, bad gzip data, a member missing from an archive, a checksum mismatch). Its message is one
 * line that names the file (or the folder searched) and says what is wrong. It is a usage error: the CLI
 * prints the message and exits with code 2.
 */
export class DataFormatError extends TopdownUsageError {
  /** The file (or folder) the problem is about; archive members are written `archive:member`. */
  readonly file: string;

  /**
   * @param file - the file, archive member (`archive:member`) or folder concerned
   * @param problem - what is wrong, without the file name (the message is `file: problem`)
   */
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    Object.defineProperty(this, 'name', { value: 'DataFormatError', enumerable: false });
    this.file = file;
  }
}

/**
 * None of a dataset's files were found in the data directory. The message lists the files looked for and
 * where, and suggests `topdown data download NAME`.
 */
export class DataMissingError extends DataFormatError {
  /**
   * @param dataDir - the data directory searched
   * @param problem - what was looked for, and how to get it
   */
  constructor(dataDir: string, problem: string) {
    super(dataDir, problem);
    Object.defineProperty(this, 'name', { value: 'DataMissingError', enumerable: false });
  }
}
