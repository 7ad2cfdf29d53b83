/** Sensors of this project (none yet). */
export const sensors = [];
