import { pipe } from 'rxjs';
import { backpressure, closeOnEmptyRead, Handler } from 'rxwire';

/** Sends every byte back as it came, never reading faster than the client reads back. */
const echo: Handler = pipe(backpressure(), closeOnEmptyRead());
export default echo;
